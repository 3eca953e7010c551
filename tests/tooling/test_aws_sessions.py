"""generator.tooling.aws.boto3_session: every session the commands make reads the service models
through one loader per process (each model parsed once), and is otherwise a session of its own."""

from __future__ import annotations

import os

import boto3
import pytest

from generator.tooling import aws


@pytest.fixture
def credentials(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DATA_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "first")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def loader_of(session):
    return session._session.get_component("data_loader")


def test_sessions_share_one_loader_so_a_model_is_parsed_once(credentials):
    first, second = aws.boto3_session("us-east-1"), aws.boto3_session("eu-west-1")
    assert loader_of(first) is loader_of(second)
    first.client("ec2")
    # The second session's EC2 client is built from the model the first one parsed: same object.
    model = loader_of(first).load_service_model("ec2", "service-2")
    assert second.client("ec2").meta.service_model._service_description is model


def test_each_session_keeps_its_own_region_and_credentials(credentials, monkeypatch):
    first = aws.boto3_session("us-east-1")
    first_key = first.get_credentials().access_key  # a session resolves its credentials on first use
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "second")
    second = aws.boto3_session("eu-west-1")
    assert (first.region_name, second.region_name) == ("us-east-1", "eu-west-1")
    assert (first_key, second.get_credentials().access_key) == ("first", "second")
    assert first.get_credentials().access_key == "first"
    assert first.client("sts").meta.region_name == "us-east-1"


def test_the_shared_loader_searches_boto3s_folder_once_however_many_sessions(credentials):
    for _ in range(5):
        session = aws.boto3_session("us-east-1")
    paths = loader_of(session).search_paths
    assert len(paths) == len(set(paths))
    assert os.path.join(os.path.dirname(boto3.__file__), "data") in paths
    # boto3's own resource models still load through it.
    assert session.resource("s3").meta.service_name == "s3"


def test_a_data_path_of_its_own_gets_a_loader_of_its_own(credentials, monkeypatch, tmp_path):
    default = loader_of(aws.boto3_session("us-east-1"))
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    custom = loader_of(aws.boto3_session("us-east-1"))
    assert custom is not default
    assert str(tmp_path) in custom.search_paths
