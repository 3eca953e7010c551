"""Cognito: email sign-in with a real password policy, and a browser client without a secret."""

from __future__ import annotations


def test_user_pool_signs_in_by_verified_email_with_a_password_policy(default_template):
    pool = default_template["Resources"]["UserPool"]
    props = pool["Properties"]
    assert props["UsernameAttributes"] == ["email"] and props["AutoVerifiedAttributes"] == ["email"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))
    assert props["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert props["DeletionProtection"] == "INACTIVE"  # else a failed first create could not delete it


def test_app_client_has_no_secret_and_hides_whether_users_exist(default_template):
    client = default_template["Resources"]["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    # The test page signs in with USER_PASSWORD_AUTH over TLS, Amplify and the other standard
    # clients with USER_SRP_AUTH, both refresh; nothing else (no custom or admin flows).
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
