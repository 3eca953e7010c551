"""TLS, the only way the client talks to DynamoDB on AWS: dynalite serving HTTPS on 127.0.0.1 with
a certificate from a test CA made here, and the client verifying it as botocore would.

dynalite's ``--ssl`` takes its own key, certificate and CA when they are given (``--key=PEM``
``--cert=PEM`` ``--ca=PEM``: the CLI passes its options to the server, which passes them to
node's ``https.createServer``; without them it uses a bundled self-signed certificate).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import botocore.session
import pytest
from botocore.httpsession import get_cert_path
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from itemstore import create_app, dynamo
from itemstore.settings import Settings
from itemstore.transport import DynamoDBClient, DynamoDBUnreachable

from tests.support.containers import SERVICES
from tests.support.processes import DYNALITE, REGION, Dynalite, boto_client, free_port

pytestmark = pytest.mark.integration

SERVER_NAME = "localhost"  # the only name in the server certificate; 127.0.0.1 is not in it


# --- a test PKI ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pki:
    ca: Path            # the CA that issued the server certificate (PEM)
    other_ca: Path      # a CA that issued nothing the server presents
    server_key: bytes   # PEM
    server_cert: bytes  # PEM, for SERVER_NAME only


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _server_cert(ca_key, ca_cert, dns_name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(dns_name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = _ca("ecsapi test CA")
    _, other_cert = _ca("ecsapi other CA")
    key, cert = _server_cert(ca_key, ca_cert, SERVER_NAME)
    (root / "ca.pem").write_bytes(_pem(ca_cert))
    (root / "other-ca.pem").write_bytes(_pem(other_cert))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return Pki(root / "ca.pem", root / "other-ca.pem", key_pem, _pem(cert))


class TlsDynalite(Dynalite):
    """dynalite with --ssl and the test PKI's certificate, at https://localhost:PORT."""

    name = "dynalite (TLS)"

    def __init__(self, data: Path, log_path: Path, pki: Pki) -> None:
        super().__init__(data, log_path)
        self.pki = pki

    @property
    def url(self) -> str:
        return f"https://{SERVER_NAME}:{self.port}"

    def start(self) -> TlsDynalite:
        for _ in range(3):
            self._spawn([str(DYNALITE), "--port", str(self.port), "--host", "127.0.0.1", "--path", str(self.data),
                         "--ssl", f"--key={self.pki.server_key.decode()}", f"--cert={self.pki.server_cert.decode()}",
                         f"--ca={self.pki.ca.read_text()}"], env={"PATH": "/usr/bin:/bin"})
            try:
                self._wait_ready(self._answers, timeout=15)
                return self
            except RuntimeError:
                # free_port() only finds a port that was free a moment ago: on a shared machine
                # another process can take it first. Then try another one.
                if "EADDRINUSE" not in self.log():
                    raise
                self.log_path.write_text("")
                self.port = free_port()
        raise RuntimeError(f"{self.name}: no free port after 3 tries")

    def client(self):
        return boto_client("dynamodb", self.url, verify=str(self.pki.ca))


@pytest.fixture(scope="module")
def tls_dynalite(tmp_path_factory, pki) -> TlsDynalite:
    root = tmp_path_factory.mktemp("tls-dynalite")
    server = TlsDynalite(root / "data", root / "dynalite.log", pki).start()
    for service in SERVICES:
        server.create_table(service.table_name, service.spec)
    yield server
    server.stop()


def _client(url: str, ca_bundle: Path | str | None) -> DynamoDBClient:
    credentials = botocore.session.get_session().get_credentials()
    return DynamoDBClient(url, REGION, credentials, connect_timeout=1, read_timeout=2, max_attempts=1,
                          ca_certs=None if ca_bundle is None else str(ca_bundle))


def _put_and_get(client: DynamoDBClient, item_id: str) -> dict:
    service = SERVICES[0]
    item = {service.table_key: {"S": item_id}, "via": {"S": "tls"}}
    client.call("PutItem", json.dumps({"TableName": service.table_name, "Item": item}).encode())
    return client.call("GetItem", json.dumps({"TableName": service.table_name,
                                                     "Key": {service.table_key: {"S": item_id}}}).encode())["Item"]


# --- verification --------------------------------------------------------------------------------

def test_a_verified_certificate_and_host_name_carry_getitem_and_putitem(tls_dynalite, pki):
    client = _client(tls_dynalite.url, pki.ca)
    assert _put_and_get(client, "over-tls")["via"] == {"S": "tls"}
    assert _put_and_get(client, "again")["via"] == {"S": "tls"}  # on the kept-alive TLS connection
    assert len(client._idle) == 1


def test_a_certificate_for_another_host_name_is_refused(tls_dynalite, pki):
    # The same server and a trusted CA, but the certificate names localhost, not 127.0.0.1.
    client = _client(f"https://127.0.0.1:{tls_dynalite.port}", pki.ca)
    with pytest.raises(DynamoDBUnreachable, match="SSLCertVerificationError.*(IP address mismatch|hostname)"):
        client.call("GetItem", b"{}")


@pytest.mark.parametrize("bundle", ["other CA", "botocore's default bundle"])
def test_a_certificate_from_an_untrusted_ca_is_refused(tls_dynalite, pki, bundle):
    ca_bundle = pki.other_ca if bundle == "other CA" else get_cert_path(True)
    client = _client(tls_dynalite.url, ca_bundle)
    with pytest.raises(DynamoDBUnreachable, match="SSLCertVerificationError.*certificate verify failed"):
        client.call("GetItem", b"{}")


# --- the CA bundle settings, resolved as botocore resolves them -----------------------------------

def _settings(url: str) -> Settings:
    service = SERVICES[0]
    return Settings(table_name=service.table_name, table_key=service.table_key, item_path_prefix=service.prefix,
                    region=REGION, endpoint_url=url, max_attempts=1)


CA_SETTINGS = {
    # name: (environment, config file text, which CA botocore must end up with)
    "AWS_CA_BUNDLE": ({"AWS_CA_BUNDLE": "{ca}"}, "", "ca"),
    "ca_bundle in the config file": ({}, "[default]\nca_bundle = {ca}\n", "ca"),
    "REQUESTS_CA_BUNDLE": ({"REQUESTS_CA_BUNDLE": "{ca}"}, "", "ca"),
    "AWS_CA_BUNDLE before the config file": ({"AWS_CA_BUNDLE": "{ca}"}, "[default]\nca_bundle = {other}\n", "ca"),
    "AWS_CA_BUNDLE before REQUESTS_CA_BUNDLE": ({"AWS_CA_BUNDLE": "{other}", "REQUESTS_CA_BUNDLE": "{ca}"}, "",
                                                "other"),
    "none: botocore's default bundle": ({}, "", "default"),
}


@pytest.mark.parametrize("case", CA_SETTINGS)
def test_the_ca_bundle_settings_are_honoured_as_botocore_honours_them(tls_dynalite, pki, case, tmp_path,
                                                                      monkeypatch):
    environment, config_text, expected = CA_SETTINGS[case]
    paths = {"ca": str(pki.ca), "other": str(pki.other_ca)}
    config = tmp_path / "config"
    config.write_text(config_text.format(**paths))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(**paths))
    monkeypatch.setattr(dynamo, "_SESSION", None)  # a fresh botocore session reads the new config

    client = dynamo.make_client(_settings(tls_dynalite.url))
    # botocore's own client, built from the same environment, verifies with the same bundle.
    reference = botocore.session.get_session().create_client("dynamodb", region_name=REGION,
                                                             endpoint_url=tls_dynalite.url)
    assert client.ca_bundle == get_cert_path(reference._endpoint.http_session._verify)
    assert client.ca_bundle == paths.get(expected, get_cert_path(True))
    if expected == "ca":
        assert _put_and_get(client, f"bundle-{len(case)}")["via"] == {"S": "tls"}
    else:
        with pytest.raises(DynamoDBUnreachable, match="certificate verify failed"):
            client.call("GetItem", b"{}")


# --- the app and the image's command over TLS -----------------------------------------------------

def test_the_app_answers_503_with_retry_after_when_the_certificate_is_refused(tls_dynalite, monkeypatch):
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    monkeypatch.setattr(dynamo, "_SESSION", None)
    service = SERVICES[0]
    app = create_app({"TABLE_NAME": service.table_name, "TABLE_KEY": service.table_key,
                      "ITEM_PATH_PREFIX": service.prefix, "AWS_REGION": REGION,
                      "DYNAMODB_ENDPOINT_URL": tls_dynalite.url, "DYNAMODB_MAX_ATTEMPTS": "2",
                      "RETRY_AFTER_SECONDS": "4"})
    response = app.test_client().get(service.url("x"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "4"
    assert response.get_json()["error"]["code"] == "dynamodb_unavailable"


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_the_image_command_stores_and_reads_items_over_verified_tls(tls_dynalite, pki, start_gunicorn, service):
    server = start_gunicorn(service, DYNAMODB_ENDPOINT_URL=tls_dynalite.url, AWS_CA_BUNDLE=str(pki.ca))
    status, _, body = server.request("PUT", service.url("tls-1"), {"name": "over TLS"})
    assert status == 200, body
    status, _, body = server.request("GET", service.url("tls-1"))
    assert (status, json.loads(body)) == (200, {service.table_key: "tls-1", "name": "over TLS"})
    # and the table behind it is the TLS dynalite's
    item = tls_dynalite.client().get_item(TableName=service.table_name, Key={service.table_key: {"S": "tls-1"}})
    assert item["Item"]["name"] == {"S": "over TLS"}
