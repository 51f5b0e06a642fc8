"""Object storage (S3 and S3-compatible stores) for the lakehouse and the landing folder.

The Delta tables reach the store through delta-rs storage options; everything else here (listing and
spooling landed exports, uploading and downloading the marts file) goes through pyarrow's S3 file
system with the same credentials and endpoint, so one set of `AWS_*` settings configures both.

Delta commits on a store are only safe for concurrent writers if the store honours conditional writes:
delta-rs writes each commit file `_delta_log/<version>.json` with `If-None-Match: *`, so of two writers
racing for a version exactly one wins and the other retries on the new version. A store that ignores
the header would let the second writer overwrite the first's commit and lose its rows without an error,
so `require_safe_commits` probes the store once per process and refuses to go on where that can happen.
(No storage option is needed for this: delta-rs 1.x always commits to S3 with conditional puts.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import os
import re
import shutil
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

# The standard AWS variables and the delta-rs storage option each one becomes.
AWS_ENV_OPTIONS = {
    "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
    "AWS_SESSION_TOKEN": "aws_session_token",
    "AWS_REGION": "aws_region",
    "AWS_ENDPOINT_URL": "aws_endpoint_url",
    "AWS_ALLOW_HTTP": "aws_allow_http",
}
SECRET_OPTIONS = ("aws_secret_access_key", "aws_session_token")
SCHEMES = ("s3://", "s3a://")
PROBE_FOLDER = "_commit_probe"
CHUNK_BYTES = 8 << 20


class UnsafeStoreError(RuntimeError):
    """The store cannot make concurrent Delta commits safe (or cannot be reached to check)."""


def is_remote(location: str | os.PathLike) -> bool:
    """Whether a root is an object-store URI (s3://bucket/prefix) rather than a local folder."""
    return str(location).lower().startswith(SCHEMES)


def storage_options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """delta-rs storage options from the standard AWS_* variables that are set."""
    env = os.environ if environ is None else environ
    return {option: env[name] for name, option in AWS_ENV_OPTIONS.items() if env.get(name)}


def redact(text: str, storage_options: Mapping[str, str]) -> str:
    """A message with every secret of the storage options replaced, for logs and errors."""
    for key in (*SECRET_OPTIONS, "aws_access_key_id"):
        value = storage_options.get(key)
        if value:
            text = text.replace(value, "***")
    return text


def _fs_path(uri: str) -> str:
    """`bucket/key` of an s3:// URI, as pyarrow's S3 file system names objects."""
    for scheme in SCHEMES:
        if uri.lower().startswith(scheme):
            return uri[len(scheme) :].strip("/")
    raise ValueError(f"not an object-store URI: {uri!r}")


def filesystem(storage_options: Mapping[str, str]) -> pafs.S3FileSystem:
    """pyarrow's S3 file system with the credentials and endpoint of the delta-rs storage options."""
    endpoint = storage_options.get("aws_endpoint_url")
    allow_http = str(storage_options.get("aws_allow_http", "")).lower() in ("1", "true", "yes")
    scheme = "http" if allow_http or (endpoint or "").startswith("http://") else "https"
    return pafs.S3FileSystem(
        access_key=storage_options.get("aws_access_key_id"),
        secret_key=storage_options.get("aws_secret_access_key"),
        session_token=storage_options.get("aws_session_token"),
        region=storage_options.get("aws_region") or "us-east-1",
        endpoint_override=endpoint,
        scheme=scheme,
        allow_bucket_creation=False,
        allow_bucket_deletion=False,
    )


def exists(uri: str, storage_options: Mapping[str, str]) -> bool:
    info = filesystem(storage_options).get_file_info(_fs_path(uri))
    return info.type == pafs.FileType.File


def sha256(uri: str, storage_options: Mapping[str, str]) -> str:
    """The SHA-256 of an object's content, streamed."""
    digest = hashlib.sha256()
    with filesystem(storage_options).open_input_stream(_fs_path(uri)) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download(uri: str, dest: Path, storage_options: Mapping[str, str]) -> str | None:
    """Stream an object to a local file, replaced atomically (a reader of `dest` sees old or new).

    Returns the ETag of the version that was read (None if the store gives none).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False)
    try:
        with handle, filesystem(storage_options).open_input_stream(_fs_path(uri)) as stream:
            etag = _etag(stream.metadata())
            while chunk := stream.read(CHUNK_BYTES):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, dest)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return etag


def object_version(uri: str, storage_options: Mapping[str, str]) -> str | None:
    """The ETag of an object as it is now (one HEAD request), or None if the store gives none."""
    with filesystem(storage_options).open_input_file(_fs_path(uri)) as handle:
        return _etag(handle.metadata())


def _etag(metadata) -> str | None:
    # LastModified has whole seconds only: an object rewritten within one second at the same size
    # keeps its name, size and LastModified, but not its ETag
    value = (metadata or {}).get("ETag") or (metadata or {}).get(b"ETag")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return f"etag:{value}" if value else None


def upload(path: Path, uri: str, storage_options: Mapping[str, str]) -> None:
    """Store a finished local file as one object: readers see the old object or the whole new one."""
    with open(path, "rb") as source, filesystem(storage_options).open_output_stream(_fs_path(uri)) as out:
        while chunk := source.read(CHUNK_BYTES):
            out.write(chunk)


def delete_tree(uri: str, storage_options: Mapping[str, str]) -> None:
    fs = filesystem(storage_options)
    path = _fs_path(uri)
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_dir_contents(path, missing_dir_ok=True)
        try:
            fs.delete_dir(path)
        except OSError:
            pass  # a prefix without a marker object has nothing left to delete


# ------------------------------------------------------------------------------------ landing exports


@dataclass(frozen=True)
class RemoteFile:
    """An export object under LANDING_ROOT: its path relative to the root, size and LastModified."""

    rel: str
    size: int
    modified: dt.datetime


def list_landing(landing_uri: str, storage_options: Mapping[str, str]) -> list[RemoteFile]:
    """Every object under the landing prefix, in key order (folder markers and hidden names left out)."""
    fs = filesystem(storage_options)
    base = _fs_path(landing_uri)
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    files = []
    for info in infos:
        if info.type != pafs.FileType.File:
            continue
        rel = info.path[len(base) :].lstrip("/")
        if not rel or any(part.startswith(".") for part in rel.split("/")):
            continue
        modified = info.mtime if info.mtime.tzinfo else info.mtime.replace(tzinfo=dt.UTC)
        files.append(RemoteFile(rel=rel, size=info.size, modified=modified))
    return sorted(files, key=lambda f: f.rel)


@contextmanager
def spooled(
    landing_uri: str, remote: RemoteFile, storage_options: Mapping[str, str], prefix: str = "iiot-spool-"
) -> Iterator[tuple[Path, Path, str | None]]:
    """The object streamed to a local spool file (bounded memory), deleted afterwards.

    Yields (spool root, file, version): the file lies at its key relative to the root and carries the
    object's LastModified as its modification time, so landing it names and dates it as the object; the
    version is the ETag of what was read. The spool folder is made in the temp folder with the given
    name prefix.
    """
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path = root.joinpath(*remote.rel.split("/"))
        if not path.resolve().is_relative_to(root.resolve()):
            raise ValueError(f"{remote.rel}: the object key leaves LANDING_ROOT")
        version = download(f"{landing_uri.rstrip('/')}/{remote.rel}", path, storage_options)
        stamp = remote.modified.timestamp()
        os.utime(path, (stamp, stamp))
        yield root, path, version
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------- commit safety

_checked: set[str] = set()
_checked_lock = threading.Lock()


def _probe_key(root: str, storage_options: Mapping[str, str]) -> str:
    # a digest, so that no credential is kept in memory beyond the options themselves
    text = "\0".join([root, *(f"{k}={storage_options[k]}" for k in sorted(storage_options))])
    return hashlib.sha256(text.encode()).hexdigest()


def require_safe_commits(root: str, storage_options: Mapping[str, str]) -> None:
    """Refuse a store on which two writers could both write the same Delta commit file.

    delta-rs writes each commit with `If-None-Match: *`; the probe does the same twice to one new key
    under the root. The first write must succeed and the second be refused (412, or 409 while the first
    is still settling). A store that accepts the second write ignores the header and would let
    concurrent writers overwrite each other's commits; a store that rejects the header cannot commit at
    all. Both are refused with the reason. Runs once per root and settings per process; the probe
    object is deleted afterwards.
    """
    if not is_remote(root):
        return
    key = _probe_key(root, storage_options)
    with _checked_lock:
        if key in _checked:
            return
        _probe(root.rstrip("/"), dict(storage_options))
        _checked.add(key)


_NEED = (
    "Delta commits need conditional writes (PUT with If-None-Match: *) so that concurrent writers never "
    "overwrite each other's commits; use a store that supports them"
)


def _probe(root: str, options: dict[str, str]) -> None:
    if not (options.get("aws_access_key_id") and options.get("aws_secret_access_key")):
        raise UnsafeStoreError(
            f"refusing to start: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for {root}; the check that the "
            "store makes concurrent commits safe signs its requests with them"
        )
    uri = f"{root}/{PROBE_FOLDER}/{uuid.uuid4().hex}.json"
    body = b'{"probe": "conditional write"}'
    try:
        first = conditional_put(uri, body, options)
        if not 200 <= first[0] < 300:
            raise UnsafeStoreError(
                f"refusing to start: a conditional write to {root} was answered {first[0]} "
                f"({redact(first[1], options)}). {_NEED}."
            )
        second = conditional_put(uri, body, options)
        if 200 <= second[0] < 300:
            raise UnsafeStoreError(
                f"refusing to start: the store at {root} accepted a second conditional write of the same "
                f"object, so it ignores If-None-Match and concurrent writers would silently lose commits. {_NEED}."
            )
        if second[0] not in (409, 412):
            raise UnsafeStoreError(
                f"refusing to start: a second conditional write to {root} was answered {second[0]} "
                f"({redact(second[1], options)}) instead of 412 Precondition Failed. {_NEED}."
            )
    except OSError as exc:
        raise UnsafeStoreError(
            f"refusing to start: cannot reach the store at {root} to check its conditional writes "
            f"({redact(str(exc), options)})."
        ) from None
    finally:
        try:
            filesystem(options).delete_file(_fs_path(uri))
        except OSError:
            pass  # never written, or the store is unreachable: nothing to clean up


def _endpoint(bucket: str, options: Mapping[str, str]) -> tuple[str, str, str]:
    """(scheme, host, path prefix) of a bucket: path-style on a configured endpoint, as delta-rs does."""
    endpoint = options.get("aws_endpoint_url")
    if endpoint:
        parsed = urllib.parse.urlsplit(endpoint)
        return parsed.scheme or "https", parsed.netloc, f"{parsed.path.rstrip('/')}/{bucket}"
    region = options.get("aws_region") or "us-east-1"
    return "https", f"{bucket}.s3.{region}.amazonaws.com", ""


def conditional_put(uri: str, body: bytes, options: Mapping[str, str]) -> tuple[int, str]:
    """PUT an object with `If-None-Match: *`, signed with AWS Signature Version 4: (status, error text).

    pyarrow's S3 file system cannot send conditional headers, so this one request is made directly.
    """
    bucket, _, key = _fs_path(uri).partition("/")
    scheme, host, prefix = _endpoint(bucket, options)
    path = urllib.parse.quote(f"{prefix}/{key}", safe="/-_.~")
    now = dt.datetime.now(dt.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    region = options.get("aws_region") or "us-east-1"
    headers = {
        "host": host,
        "if-none-match": "*",
        "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-amz-date": amz_date,
    }
    if options.get("aws_session_token"):
        headers["x-amz-security-token"] = options["aws_session_token"]
    if options.get("aws_access_key_id"):
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                "PUT",
                path,
                "",
                "".join(f"{name}:{headers[name].strip()}\n" for name in sorted(headers)),
                signed,
                headers["x-amz-content-sha256"],
            ]
        )
        scope = f"{day}/{region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signing_key = f"AWS4{options.get('aws_secret_access_key', '')}".encode()
        for part in (day, region, "s3", "aws4_request"):
            signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={options['aws_access_key_id']}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
    connection_type = http.client.HTTPConnection if scheme == "http" else http.client.HTTPSConnection
    connection = connection_type(host, timeout=30)
    try:
        connection.request("PUT", path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    match = re.search(r"<Code>([^<]*)</Code>", text)
    return response.status, match.group(1) if match else response.reason
