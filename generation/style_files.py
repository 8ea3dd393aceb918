"""Where a style's adapter file is on this machine. The manager loads adapters from a local
path; the file itself lives in the site's storage (a local folder or S3)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage


def local_adapter_path(name: str, sha256: str) -> Path:
    """The stored file itself on local storage; from other storages (S3) it is fetched once
    into the model cache, named by its content hash and checked against it, so a worker never
    loads a file other than the one the style was saved with."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        pass
    target = Path(settings.WEE_WAA_MODEL_CACHE) / "adapters" / f"{sha256}.safetensors"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, default_storage.open(name, "rb") as stored:
            for chunk in iter(lambda: stored.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"The adapter file {name} does not match its recorded hash")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
