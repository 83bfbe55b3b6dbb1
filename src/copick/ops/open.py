"""Opening projects: ``from_file``, ``from_string`` and ``new_config`` (re-exported by ``copick``)."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

from copick.errors import ConfigError, ConfigJSONError

_BACKENDS = ("filesystem", "cryoet_data_portal", "mlcroissant")


def _parse_json(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigJSONError(source, err) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a copick config must be a JSON object, found {type(data).__name__}.")
    return data


def _validate(model: type, data: dict[str, Any], source: str) -> Any:
    """Validate ``data`` with ``model``; pydantic's ``ValidationError`` is re-titled with the source."""
    from pydantic import ValidationError

    try:
        return model(**data)
    except ValidationError as err:
        details = [{k: e[k] for k in ("type", "loc", "input", "ctx") if k in e} for e in err.errors()]
        raise ValidationError.from_exception_data(f"copick config {source}", details) from None


def _config_type(data: dict[str, Any], source: str) -> str:
    config_type = data.get("config_type")
    if config_type is None:
        warnings.warn(
            f"{source}: config has no 'config_type'; assuming 'filesystem' "
            '(add "config_type": "filesystem").',
            DeprecationWarning,
            stacklevel=4,
        )
        return "filesystem"
    if config_type not in _BACKENDS:
        raise ConfigError(
            f"{source}: unknown config_type {config_type!r}; expected one of {', '.join(_BACKENDS)}."
        )
    return config_type


def read_config(path: str, model: type) -> Any:
    """Read and validate a config file with the given model."""
    with open(path) as f:
        text = f.read()
    return _validate(model, _parse_json(text, path), path)


def from_string(data: str, source: str = "<string>") -> Any:
    """Open the project described by the JSON text ``data``."""
    config = _parse_json(data, source)
    config_type = _config_type(config, source)
    if config_type == "cryoet_data_portal":
        from copick.impl.cryoet_data_portal import CopickConfigCDP, CopickRootCDP

        return CopickRootCDP(_validate(CopickConfigCDP, config, source))
    if config_type == "mlcroissant":
        from copick.impl.mlcroissant import CopickConfigMLCroissant, CopickRootMLC

        return CopickRootMLC(_validate(CopickConfigMLCroissant, config, source))
    if config_type != "filesystem":
        raise ConfigError(f"{source}: config_type {config_type!r} is not supported by this copick yet.")
    from copick.impl.filesystem import CopickConfigFSSpec, CopickRootFSSpec

    config.setdefault("config_type", "filesystem")
    return CopickRootFSSpec(_validate(CopickConfigFSSpec, config, source))


def from_file(path: str) -> Any:
    """Open the project whose config JSON is at the local ``path``."""
    with open(path) as f:
        text = f.read()
    return from_string(text, source=str(path))


def new_config(
    config: str,
    overlay_root: str,
    proj_name: str = "copick project",
    proj_description: str = "",
    pickable_objects: list | None = None,
) -> Any:
    """Write a filesystem config at ``config`` for a project under ``overlay_root`` and open it."""
    import copick
    from copick.metadata import PickableObject
    from copick.storage_local import write_atomic

    objects = [PickableObject.model_validate(o) if isinstance(o, dict) else o for o in pickable_objects or []]
    document = {
        "config_type": "filesystem",
        "name": proj_name,
        "description": proj_description,
        "version": copick.__version__,
        "pickable_objects": [o.model_dump(mode="json") for o in objects],
        "overlay_root": overlay_root if "://" in overlay_root else "local://" + overlay_root,
        "overlay_fs_args": {},
    }
    if "://" not in overlay_root or overlay_root.startswith(("local://", "file://")):
        document["overlay_fs_args"] = {"auto_mkdir": True}
        os.makedirs(overlay_root.split("://", 1)[-1], exist_ok=True)
    path = os.path.abspath(config)
    write_atomic(path, json.dumps(document, indent=4).encode())
    return from_file(path)


def from_czcdp_datasets(
    dataset_ids: list[int],
    overlay_root: str,
    overlay_fs_args: dict[str, Any] | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    output_path: str | None = None,
) -> Any:
    """Open CryoET Data Portal datasets under the writable ``overlay_root``, one pickable object per
    annotated portal object; write the config to ``output_path`` when given."""
    import copick
    from copick.impl.cryoet_data_portal import CopickConfigCDP, CopickRootCDP
    from copick.portal.catalog import PortalCatalog
    from copick.portal.objects import derive_objects

    ids = [int(i) for i in dataset_ids]
    config = CopickConfigCDP(
        name="CZ cryoET Data Portal Dataset",
        description=f"This copick project contains data from datasets {ids}.",
        version=copick.__version__,
        pickable_objects=[],
        user_id=user_id,
        session_id=session_id,
        overlay_root=overlay_root,
        overlay_fs_args=overlay_fs_args or {},
        dataset_ids=ids,
    )
    overlay_dir = (
        overlay_root.split("://", 1)[-1] if overlay_root.startswith(("local://", "file://", "/")) else None
    )
    tables = PortalCatalog(config, overlay_dir).tables()
    config = CopickConfigCDP.model_validate(
        {**config.model_dump(), "pickable_objects": derive_objects(tables)}
    )
    root = CopickRootCDP(config, tables)
    if output_path is not None:
        root.save_config(output_path)
    return root


def open_portal_for_reading(dataset_ids: list[int], purpose: str) -> Any:
    """Portal datasets opened only to be read (browse, sync sources): their overlay is a per-user folder
    ``<tmp>/copick-<purpose>-overlay-<uid>`` reused between commands, so the portal metadata cache
    in it is reused too and no throw-away folder piles up (copick 1.31 used ``/tmp/overlay_root``)."""
    import os
    import tempfile

    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    overlay = os.path.join(tempfile.gettempdir(), f"copick-{purpose}-overlay{user}")
    return from_czcdp_datasets(list(dataset_ids), overlay_root=overlay, overlay_fs_args={"auto_mkdir": True})


def from_croissant(
    croissant_url: str,
    overlay_root: str | None = None,
    croissant_base_url: str | None = None,
    overlay_fs_args: dict[str, Any] | None = None,
    croissant_fs_args: dict[str, Any] | None = None,
    static_fs_args: dict[str, Any] | None = None,
    output_path: str | None = None,
) -> Any:
    """Open the project the ML-Croissant manifest at ``croissant_url`` describes (its data read-only
    under the writable ``overlay_root``, or written beside it without one); write the config to
    ``output_path`` when given."""
    from copick.impl.mlcroissant import CopickConfigMLCroissant, CopickRootMLC

    settings = {
        "croissant_url": croissant_url,
        "croissant_base_url": croissant_base_url,
        "overlay_root": overlay_root,
        "overlay_fs_args": overlay_fs_args or {},
        "croissant_fs_args": croissant_fs_args or {},
        "static_fs_args": static_fs_args or {},
    }
    root = CopickRootMLC(CopickConfigMLCroissant(**settings))
    if output_path is not None:
        root.save_config(output_path)
    return root
