#!/usr/bin/env bash
# Builds the item-store image from the release's source archive and pushes it to the stack's ECR
# repository. The project's inline buildspec writes this file unchanged and runs it with bash
# (generator/template/image.py); tests/runs_in_aws/test_image_buildspec.py runs it here.
#
# Environment (the project sets every one; the image-build function overrides them per build):
#   ARCHIVE_URL     HTTPS URL of itemstore-source.tar in the release folder
#   ARCHIVE_SHA256  the archive's SHA-256 as the template pins it (64 hex digits)
#   REPOSITORY_URI  <account>.dkr.ecr.<region>.amazonaws.com/<repository>
#   IMAGE_TAG       the tag to push (derived from ARCHIVE_SHA256)
#   DOCKERFILE      the Dockerfile to build, relative to the archive's root (food/Dockerfile)
#   ARCHITECTURE    the tasks' CPU architecture, X86_64 or ARM64; the project runs on a CodeBuild
#                   environment of that architecture, so the image is built natively
#   AWS_REGION      set by CodeBuild in every build
set -euo pipefail

: "${ARCHIVE_URL:?ARCHIVE_URL is not set}"
: "${ARCHIVE_SHA256:?ARCHIVE_SHA256 is not set}"
: "${REPOSITORY_URI:?REPOSITORY_URI is not set}"
: "${IMAGE_TAG:?IMAGE_TAG is not set}"
: "${DOCKERFILE:?DOCKERFILE is not set}"
: "${ARCHITECTURE:?ARCHITECTURE is not set}"
: "${AWS_REGION:?AWS_REGION is not set}"

# The Docker platform of the tasks' architecture. A build host of another architecture would need
# emulation, which this build does not set up: refuse it instead of pushing an image the tasks
# cannot run (pip would also find no wheel hashed for that machine in requirements.txt).
case "$ARCHITECTURE" in
    X86_64) platform=linux/amd64; machine=x86_64 ;;
    ARM64) platform=linux/arm64; machine=aarch64 ;;
    *) echo "ARCHITECTURE must be X86_64 or ARM64, not $ARCHITECTURE" >&2; exit 1 ;;
esac
if [ "$(uname -m)" != "$machine" ]; then
    echo "REFUSING TO BUILD: this host is $(uname -m) but the tasks run on $ARCHITECTURE ($machine)." >&2
    exit 1
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
archive="$workdir/itemstore-source.tar"
context="$workdir/context"
image="$REPOSITORY_URI:$IMAGE_TAG"

echo "Fetching $ARCHIVE_URL"
# --retry covers S3's transient answers (timeouts, 5xx); --fail turns a 403 or 404 into an error.
curl --fail --silent --show-error --retry 5 --retry-delay 3 --retry-connrefused \
    --connect-timeout 10 --max-time 300 --output "$archive" "$ARCHIVE_URL"

# Never build what the template did not pin: a changed or truncated archive stops the build here.
if ! printf '%s  %s\n' "$ARCHIVE_SHA256" "$archive" | sha256sum --check --strict --status; then
    actual=$(sha256sum "$archive" | cut -d ' ' -f 1)
    echo "REFUSING TO BUILD: $ARCHIVE_URL has SHA-256 $actual but the template pins $ARCHIVE_SHA256." >&2
    echo "The release location serves a different archive than this template was made for." >&2
    exit 1
fi
echo "Archive SHA-256 matches the template: $ARCHIVE_SHA256"

mkdir "$context"
tar --extract --no-same-owner --file "$archive" --directory "$context"
cd "$context"

# The private registry's host is the repository URI up to the first slash.
registry=${REPOSITORY_URI%%/*}
aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$registry"

# Every service runs this one image: the Dockerfiles differ only in default environment values,
# which the task definitions set anyway. Base images come from ECR Public (the Dockerfile's FROM),
# so the build never logs in to, or pulls from, Docker Hub.
docker build --platform "$platform" --file "$DOCKERFILE" --tag "$image" .
docker push "$image"
echo "Pushed $(docker inspect --format "{{index .RepoDigests 0}}" "$image")"
