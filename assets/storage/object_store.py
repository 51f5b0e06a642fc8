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
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import obstore
import pyarrow.fs as pafs
from obstore.exceptions import AlreadyExistsError, BaseError, PreconditionError
from obstore.store import S3Store

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
# what obstore (the Rust object_store crate) reports of a request the store answered with an error: its
# exceptions carry the status and the store's error code only in their text
_ANSWERED = re.compile(r"Error performing PUT (\S+) .*?status code: (\d{3})[^:]*(?::\s*(.*))?", re.S)
_CODE = re.compile(r"<Code>([^<]*)</Code>")

_OBSTORE_CONFIG = {
    "aws_access_key_id": "access_key_id",
    "aws_secret_access_key": "secret_access_key",
    "aws_session_token": "session_token",
    "aws_region": "region",
    "aws_endpoint_url": "endpoint",
}


def _probe_store(root: str, options: Mapping[str, str]) -> S3Store:
    """An obstore S3 store on the root's bucket, configured from the delta-rs storage options.

    obstore rather than a hand-written request signer: it is the Rust object_store crate that delta-rs
    writes through, so the probe signs and addresses its requests (path-style on a configured endpoint)
    as the commits do, and without keys it finds web-identity, ECS task-role or EC2 instance-profile
    credentials.
    """
    bucket, _, prefix = _fs_path(root).partition("/")
    config = {ours: options[theirs] for theirs, ours in _OBSTORE_CONFIG.items() if options.get(theirs)}
    config.setdefault("region", "us-east-1")
    allow_http = str(options.get("aws_allow_http", "")).lower() in ("1", "true", "yes")
    allow_http = allow_http or options.get("aws_endpoint_url", "").startswith("http://")
    return S3Store(
        bucket,
        prefix=prefix or None,
        config=config,
        client_options={"allow_http": allow_http, "timeout": dt.timedelta(seconds=30)},
        # a store that rejects the header answers 501 at once: a few retries, not the default three minutes
        retry_config={"max_retries": 2, "retry_timeout": dt.timedelta(seconds=30)},
    )


def _conditional_put(store: S3Store, key: str, body: bytes) -> tuple[int, str] | None:
    """PUT key with `If-None-Match: *`: None if it was written, else (status, the store's error code).

    Raises OSError if the store gave no answer to this request (unreachable, or no credentials).
    """
    try:
        obstore.put(store, key, body, mode="create")
    except (AlreadyExistsError, PreconditionError):
        return 412, "PreconditionFailed"
    except BaseError as exc:
        text = str(exc).split("\n\nDebug source:", 1)[0]
        answered = _ANSWERED.search(text)
        # an error answer to another request (a credential service's) is no answer to this one
        if answered and answered.group(1).endswith(key):
            code = _CODE.search(answered.group(3) or "")
            return int(answered.group(2)), code.group(1) if code else (answered.group(3) or "").strip()[:200]
        raise OSError(text) from None
    return None


def _probe(root: str, options: dict[str, str]) -> None:
    if bool(options.get("aws_access_key_id")) != bool(options.get("aws_secret_access_key")):
        raise UnsafeStoreError(
            f"refusing to start: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for {root}: only one of the two "
            "is set, so the check that the store makes concurrent commits safe cannot sign its requests"
        )
    key = f"{PROBE_FOLDER}/{uuid.uuid4().hex}.json"
    body = b'{"probe": "conditional write"}'
    try:
        store = _probe_store(root, options)
    except BaseError as exc:
        raise UnsafeStoreError(
            f"refusing to start: the settings for {root} are not usable ({redact(str(exc), options)})."
        ) from None
    try:
        first = _conditional_put(store, key, body)
        if first is not None:
            raise UnsafeStoreError(
                f"refusing to start: a conditional write to {root} was answered {first[0]} "
                f"({redact(first[1], options)}). {_NEED}."
            )
        second = _conditional_put(store, key, body)
        if second is None:
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
        if not options.get("aws_access_key_id"):
            raise UnsafeStoreError(
                f"refusing to start: no credentials for {root}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                "run where a web identity, ECS task role or EC2 instance profile provides them "
                f"({redact(str(exc), options)})."
            ) from None
        raise UnsafeStoreError(
            f"refusing to start: cannot reach the store at {root} to check its conditional writes "
            f"({redact(str(exc), options)})."
        ) from None
    finally:
        try:
            obstore.delete(store, key)
        except BaseError:
            pass  # never written, or the store is unreachable: nothing to clean up
