"""What a stack operation is doing, from its events: resources done out of total, what is in
progress and for how long, the slow steps named; the first failure and where to look. Pure: events
in, lines out (``ecsapi deploy`` draws them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# The steps of this stack that take minutes, by resource type: named so a long wait says why.
SLOW_STEPS = {
    "Custom::ImageBuild": "image build (CodeBuild builds and pushes the container image)",
    "AWS::CloudFront::Distribution": "CloudFront distribution (deploys to every edge location)",
    "AWS::EC2::NatGateway": "NAT gateway",
    "AWS::ECS::Service": "service reaching a steady state (tasks started and healthy)",
    "AWS::ApiGatewayV2::VpcLink": "VPC link",
}
# CloudFormation's statuses for a resource that is being worked on, done, or failed
# (AWS CloudFormation API Reference, StackEvent.ResourceStatus).
CANCELLED = ("Resource creation cancelled", "Resource update cancelled")
URL = re.compile(r"https://\S+")


@dataclass
class _Resource:
    logical_id: str
    type: str
    status: str
    since: datetime
    reason: str = ""


@dataclass
class Progress:
    """The state of one operation on ``stack``, fed with its events in time order."""

    stack: str
    total: int  # resources the operation touches (the template's, for a create)
    started: datetime
    resources: dict[str, _Resource] = field(default_factory=dict)
    stack_status: str = ""
    events: list[dict] = field(default_factory=list)
    cancelled: bool = False  # the user asked for CancelUpdateStack

    def add(self, event: dict) -> None:
        self.events.append(event)
        name, status = event["LogicalResourceId"], event["ResourceStatus"]
        if event["ResourceType"] == "AWS::CloudFormation::Stack" and name == self.stack:
            self.stack_status = status
            return
        known = self.resources.get(name)
        since = event["Timestamp"] if (known is None or not status.endswith("IN_PROGRESS")
                                       or not known.status.endswith("IN_PROGRESS")) else known.since
        self.resources[name] = _Resource(name, event["ResourceType"], status, since,
                                         event.get("ResourceStatusReason", ""))

    @property
    def done(self) -> int:
        return sum(1 for r in self.resources.values() if r.status.endswith("_COMPLETE"))

    def in_progress(self) -> list[_Resource]:
        return sorted((r for r in self.resources.values() if r.status.endswith("IN_PROGRESS")),
                      key=lambda r: (r.since, r.logical_id))

    def lines(self, now: datetime) -> list[str]:
        """The live view: a header, then what is in progress (the longest first), slow steps named."""
        status = self.stack_status or "starting"
        lines = [f"{self.stack}: {status}  {self.done}/{self.total} resources done  "
                 f"({duration(now - self.started)} elapsed)"]
        for r in self.in_progress():
            slow = SLOW_STEPS.get(r.type)
            note = f"  - {slow}" if slow else ""
            lines.append(f"  {duration(now - r.since):>7}  {r.logical_id} ({r.type}){note}")
        failed = self.first_failure()
        if failed is not None:
            lines.append(f"  FAILED: {failed['LogicalResourceId']}: {failed.get('ResourceStatusReason', '')}")
        return lines

    def line(self, event: dict) -> str:
        """One plain line per event, for logs (CI): time, status, resource, and the count."""
        reason = event.get("ResourceStatusReason")
        return (f"{event['Timestamp']:%H:%M:%S} {event['ResourceStatus']:<28} {event['LogicalResourceId']} "
                f"({event['ResourceType']}) [{self.done}/{self.total}]" + (f" {reason}" if reason else ""))

    def first_failure(self) -> dict | None:
        """The first failed event that is a cause, not the cancellations that follow it."""
        failed = [e for e in self.events if e["ResourceStatus"].endswith("_FAILED")
                  and e["ResourceType"] != "AWS::CloudFormation::Stack"]
        causes = [e for e in failed if not e.get("ResourceStatusReason", "").startswith(CANCELLED)]
        return (causes or failed or [None])[0]


def where_to_look(event: dict, stack: str, region: str) -> str:
    """Where the details of a failed resource are."""
    reason = event.get("ResourceStatusReason", "")
    match event["ResourceType"]:
        case "Custom::ImageBuild":
            links = URL.findall(reason)
            return ("the image build's CodeBuild log: " + links[0]) if links else (
                "the image build's CodeBuild log (CodeBuild console, the stack's ImageBuildProject)")
        case "AWS::ECS::Service":
            return ("the service's events and stopped tasks: aws ecs describe-services --region "
                    f"{region} --cluster <ClusterName output> --services <service>")
        case _:
            return (f"the stack's events: aws cloudformation describe-stack-events --region {region} "
                    f"--stack-name {stack}")


def duration(delta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
