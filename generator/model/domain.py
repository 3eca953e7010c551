"""The API on a domain of the user's own: the ``[domain]`` table of a stack file, as typed, validated data.

Each field documents its default and its constraint; a bad value raises :class:`ConfigError` naming
the field, the value and what is allowed, before any template exists. The facts the template, the
page, the OpenAPI document, ``describe`` and ``preflight`` share (the API's URL on the domain, the
page's origin, which Region a certificate must be in) are written once here.
"""

from __future__ import annotations

from generator.model.errors import ConfigError
from generator.model.patterns import lazy
from generator.model.records import dataclass

# A DNS name as API Gateway takes it: "Uppercase letters and the underscore (_) character are not
# supported" (AWS::ApiGatewayV2::DomainName, DomainName, in the resource schema cfn-lint ships).
# Labels of 1-63 letters, digits and hyphens, not starting or ending with a hyphen (RFC 1123), at
# least two of them, 253 characters in all.
DOMAIN_LABEL = lazy(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_DOMAIN_LENGTH = 253
# A Route 53 hosted zone id as GetHostedZone takes it: upper-case letters and digits, at most 32
# characters ("HostedZone", Amazon Route 53 API Reference: Id, maximum length 32; AWS's start with Z,
# which the reference does not promise, so it is not required), without the /hostedzone/ prefix.
HOSTED_ZONE_ID = lazy(r"^[A-Z0-9]{1,32}$")
# arn:<partition>:acm:<region>:<account>:certificate/<uuid> ("Amazon Resource Names (ARNs)",
# AWS Certificate Manager: "arn:aws:acm:region:account:certificate/certificate_ID").
CERTIFICATE_ARN = lazy(
    r"^arn:aws(-cn|-us-gov)?:acm:(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:certificate/[0-9a-f-]{36}$"
)
# An API mapping key: one or more path segments, no leading or trailing slash; API Gateway takes
# several levels (orders/v1) on a Regional domain with the TLS 1.2 policy ("Map API stages to a
# custom domain name for HTTP APIs", Amazon API Gateway Developer Guide) and strips the key from
# the request before it matches a route, so the routes stay as they are.
BASE_PATH = lazy(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")
# CloudFront takes a viewer certificate from ACM in US East (N. Virginia) only ("Requirements for
# using SSL/TLS certificates with CloudFront", Amazon CloudFront Developer Guide).
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


def certificate_region(arn: str) -> str:
    """The Region in an ACM certificate ARN (``arn:aws:acm:eu-west-1:...`` -> ``eu-west-1``)."""
    match = CERTIFICATE_ARN.match(arn)
    if not match:
        raise ValueError(f"not an ACM certificate ARN: {arn!r}")
    return match.group("region")


def covers(certificate_names: list[str], name: str) -> bool:
    """Whether a certificate for ``certificate_names`` (its domain name and alternative names)
    covers ``name``: an exact match, or a wildcard ``*.example.com`` for exactly one more label
    ("Domain names", AWS Certificate Manager User Guide: the wildcard covers one level)."""
    for entry in certificate_names:
        entry = entry.lower().rstrip(".")
        if entry == name:
            return True
        if entry.startswith("*.") and name.count(".") >= 2 and name.split(".", 1)[1] == entry[2:]:
            return True
    return False


def zone_holds(zone_name: str, name: str) -> bool:
    """Whether a hosted zone for ``zone_name`` (``example.com.``) can hold a record for ``name``."""
    zone = zone_name.lower().rstrip(".")
    return name == zone or name.endswith("." + zone)


def _domain_name(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigError(field_name, value, "give a domain name such as api.example.com")
    if value != value.lower() or "_" in value:
        raise ConfigError(field_name, value, "API Gateway and CloudFront names take lower-case letters, digits, "
                                             "'-' and '.' only; write it in lower case, without '_'")
    labels = value.split(".")
    if len(value) > MAX_DOMAIN_LENGTH or len(labels) < 2 or not all(DOMAIN_LABEL.match(label) for label in labels):
        raise ConfigError(field_name, value, "give a full domain name such as api.example.com: two or more labels of "
                                             "1-63 letters, digits and '-' (not first or last), 253 characters at most, "
                                             "no '*', no trailing '.'")


def _certificate(field_name: str, value: object) -> str:
    if not isinstance(value, str) or not CERTIFICATE_ARN.match(value):
        raise ConfigError(field_name, value, "give an ACM certificate ARN such as "
                                             "arn:aws:acm:eu-west-1:123456789012:certificate/<id>")
    return certificate_region(value)


@dataclass(frozen=True)
class DomainSpec:
    """The API on ``name``: a Regional API Gateway custom domain, mapped to the stage; optionally
    its DNS record, its certificate and the test page on a name of its own."""

    name: str | None
    """The API's domain name, e.g. ``api.example.com``: lower case, no wildcard. Required (None is
    refused with the reason)."""
    hosted_zone_id: str | None = None
    """A public Route 53 hosted zone (``Z0123456789ABCDEFGHIJ``) whose name is a suffix of ``name``,
    which the stack writes its records into (the API's alias record, the certificate's validation
    record, the page's record). The stack never creates a zone. Default: none, and you add the
    records at your DNS provider yourself: the ``ApiDomainTarget`` output says where ``name`` must
    point, and a new certificate waits for its validation record (see ``certificate_arn``)."""
    certificate_arn: str | None = None
    """An issued ACM certificate in the stack's own Region covering ``name`` (a Regional custom
    domain takes its certificate from its own Region). The template is Region-agnostic, so a rule
    in it refuses a launch in any other Region. Default: none, and the stack requests a new
    certificate validated by DNS: with ``hosted_zone_id`` CloudFormation writes the validation
    record itself; without it the create WAITS (CREATE_IN_PROGRESS) until you add the CNAME that
    the certificate's stack event shows ("Content of DNS Record is: ...")."""
    base_path: str | None = None
    """The API mapping key: the API answers at ``https://<name>/<base_path>/...`` (``v1``, or
    several levels such as ``orders/v1``); API Gateway strips it before matching a route. Default:
    none, the API at the domain's root."""
    disable_execute_api_endpoint: bool = False
    """Only the custom domain answers: API Gateway's own ``https://<id>.execute-api...`` endpoint
    answers 403 Forbidden ("Custom domain name for REST APIs in API Gateway", Considerations), and the outputs, the page and the OpenAPI document name the domain alone.
    Refused without ``name`` (the test page and ``make local`` then need the default endpoint).
    Default false."""
    page_name: str | None = None
    """The test page on a name of its own (``try.example.com``): a CloudFront alternate domain name,
    with ``page_certificate_arn``; the API's CORS then admits that origin. Needs ``test_page``.
    Default: none, the page on its ``*.cloudfront.net`` name."""
    page_certificate_arn: str | None = None
    """The ACM certificate CloudFront serves ``page_name`` with: CloudFront takes certificates
    from us-east-1 only, which a stack in another Region cannot create, so it is given here.
    Required with ``page_name``, refused without it."""

    def __post_init__(self) -> None:
        if self.name is None:
            if self.disable_execute_api_endpoint is True:
                raise ConfigError(
                    "domain.disable_execute_api_endpoint", True,
                    "without a domain name the test page and make local reach the API at its default "
                    "execute-api endpoint; set domain.name, or leave it false",
                )
            raise ConfigError("domain.name", None, "give the API's domain name, such as api.example.com")
        _domain_name("domain.name", self.name)
        if self.hosted_zone_id is not None and (
            not isinstance(self.hosted_zone_id, str) or not HOSTED_ZONE_ID.match(self.hosted_zone_id)
        ):
            raise ConfigError("domain.hosted_zone_id", self.hosted_zone_id,
                              "give the zone's id as Route 53 shows it, such as Z0123456789ABCDEFGHIJ "
                              "(without /hostedzone/)")
        if self.certificate_arn is not None:
            _certificate("domain.certificate_arn", self.certificate_arn)
        if self.base_path is not None and (
            not isinstance(self.base_path, str) or len(self.base_path) > 255 or not BASE_PATH.match(self.base_path)
        ):
            raise ConfigError("domain.base_path", self.base_path,
                              "give path segments of letters, digits, '.', '_', '~', '-' joined by '/', such as v1 "
                              "or orders/v1, without a leading or trailing '/'")
        if not isinstance(self.disable_execute_api_endpoint, bool):
            raise ConfigError("domain.disable_execute_api_endpoint", self.disable_execute_api_endpoint,
                              "must be true or false")
        self._check_page()

    def _check_page(self) -> None:
        if self.page_name is None:
            if self.page_certificate_arn is not None:
                raise ConfigError("domain.page_certificate_arn", self.page_certificate_arn,
                                  "is the certificate of page_name; set page_name too, or leave it unset")
            return
        _domain_name("domain.page_name", self.page_name)
        if self.page_name == self.name:
            raise ConfigError("domain.page_name", self.page_name,
                              "the page needs a name of its own, not the API's (domain.name)")
        if self.page_certificate_arn is None:
            raise ConfigError("domain.page_certificate_arn", None,
                              f"the page on {self.page_name} needs an ACM certificate in "
                              f"{CLOUDFRONT_CERTIFICATE_REGION} covering it (CloudFront takes them from "
                              f"{CLOUDFRONT_CERTIFICATE_REGION} only)")
        region = _certificate("domain.page_certificate_arn", self.page_certificate_arn)
        if region != CLOUDFRONT_CERTIFICATE_REGION:
            raise ConfigError("domain.page_certificate_arn", self.page_certificate_arn,
                              f"CloudFront takes viewer certificates from ACM in {CLOUDFRONT_CERTIFICATE_REGION} "
                              f"only, not {region}; request or import one there for {self.page_name}")

    @property
    def origin(self) -> str:
        """``https://<name>``: the API's origin on the domain, as CSP and CORS name it."""
        return f"https://{self.name}"

    @property
    def api_url(self) -> str:
        """The API's URL on the domain, service paths appended to it: ``https://api.example.com/v1``."""
        return self.origin + (f"/{self.base_path}" if self.base_path else "")

    @property
    def certificate_region(self) -> str | None:
        """The Region ``certificate_arn`` is in (the stack must be there), None without one."""
        return certificate_region(self.certificate_arn) if self.certificate_arn else None

    @property
    def validation_wait(self) -> str | None:
        """What a user must know before a launch that waits on them (a certificate the stack
        requests, with no hosted zone to validate it in), None when nothing waits."""
        if self.certificate_arn is not None or self.hosted_zone_id is not None:
            return None
        return (
            f"the stack requests a certificate for {self.name} and, without hosted_zone_id, its create WAITS "
            "(CREATE_IN_PROGRESS) until you add the validation CNAME at your DNS provider: the ApiCertificate "
            "event's status reason shows it ('Content of DNS Record is: {Name: ..., Type: CNAME, Value: ...}'), "
            "as does `aws acm describe-certificate` (DomainValidationOptions[].ResourceRecord)"
        )

    @property
    def page_origin(self) -> str | None:
        """``https://<page_name>``, None without a page name."""
        return f"https://{self.page_name}" if self.page_name else None
