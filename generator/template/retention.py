"""What happens to the stack's data (tables, user pool, key, log groups) when a stack operation
removes the resource that holds it, written once for every such resource.

``data_deletion_policy = "Retain"`` keeps the data of a stack that was created: deleting the stack
or replacing the resource leaves it in the account. It does not keep resources that a failed first
create made, which can hold no data yet and would block the next attempt (a table or pool name
already taken, a stray key to pay for): ``RetainExceptOnCreate`` "behaves like Retain for stack
operations, except for the stack operation that initially created the resource", which deletes
it on rollback ("DeletionPolicy attribute", AWS CloudFormation User Guide). UpdateReplacePolicy
does not take that value, and keeps ``Retain``.

A rollback can delete only what is not deletion-protected, so retained tables and the user pool
are not: the Retain policies keep them from CloudFormation, point-in-time recovery keeps the
table data, and deleting them by hand stays possible for whoever may.

Log groups are the exception: with Retain they are kept even when the first create fails, because
their logs (the image build's, a task's) say why it failed. Their names are CloudFormation's own,
or (the API's access logs) carry the stack's UUID, so a kept group never blocks the next attempt. (With the stack's key on, a failed create schedules
the key's deletion; cancel it within the pending window to read those logs.)
"""

from __future__ import annotations

from generator.model.config import DeletionPolicy, StackConfig

RETAIN_EXCEPT_ON_CREATE = "RetainExceptOnCreate"


def data_policies(config: StackConfig) -> dict[str, str]:
    """``DeletionPolicy`` and ``UpdateReplacePolicy`` for a resource that holds data."""
    if config.data_deletion_policy is DeletionPolicy.RETAIN:
        return {"DeletionPolicy": RETAIN_EXCEPT_ON_CREATE, "UpdateReplacePolicy": DeletionPolicy.RETAIN.value}
    return {"DeletionPolicy": DeletionPolicy.DELETE.value, "UpdateReplacePolicy": DeletionPolicy.DELETE.value}


def log_policies(config: StackConfig) -> dict[str, str]:
    """``DeletionPolicy`` and ``UpdateReplacePolicy`` for a log group: ``data_deletion_policy`` as it is."""
    policy = config.data_deletion_policy.value
    return {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}
