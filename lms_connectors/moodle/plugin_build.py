"""Builds the installable zip of the ProfRoute Moodle plugin (local_profroute) deterministically."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin" / "local_profroute"
# Moodle installs a local plugin from a zip whose top folder is its name without "local_".
ZIP_FOLDER = "profroute"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_SKIPPED = {"__pycache__", ".DS_Store"}
_RELEASE = re.compile(r"""\$plugin->release\s*=\s*['"]([^'"]+)['"]\s*;""")
_VERSION = re.compile(r"""\$plugin->version\s*=\s*(\d{10})(?:\.\d+)?\s*;""")


def _version_php(plugin_dir: Path) -> str:
    return (plugin_dir / "version.php").read_text(encoding="utf-8")


def plugin_version(plugin_dir: Path = PLUGIN_DIR) -> str:
    """The plugin's human release (``$plugin->release`` of version.php), e.g. ``"1.0.0"``.

    Raises:
        ValueError: version.php declares no release.
    """
    match = _RELEASE.search(_version_php(plugin_dir))
    if match is None:
        raise ValueError(f"no $plugin->release in {plugin_dir / 'version.php'}")
    return match.group(1)


def plugin_build(plugin_dir: Path = PLUGIN_DIR) -> int:
    """The plugin's version number (``$plugin->version``, YYYYMMDDXX), what Moodle compares.

    Raises:
        ValueError: version.php declares no version.
    """
    match = _VERSION.search(_version_php(plugin_dir))
    if match is None:
        raise ValueError(f"no $plugin->version in {plugin_dir / 'version.php'}")
    return int(match.group(1))


def _members(plugin_dir: Path) -> list[Path]:
    """Files and folders of the plugin, sorted, without caches and hidden files."""
    return sorted(
        path for path in plugin_dir.rglob("*")
        if not any(part in _SKIPPED or part.startswith(".")
                   for part in path.relative_to(plugin_dir).parts)
    )


def _entry(name: str, is_dir: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.create_system = 3  # Unix, so the modes below are honoured
    mode = 0o40755 if is_dir else 0o100644
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_STORED if is_dir else zipfile.ZIP_DEFLATED
    return info


def build_zip(dest_dir: Path, plugin_dir: Path = PLUGIN_DIR) -> Path:
    """Writes ``local_profroute-<release>.zip`` with every file under ``profroute/``.

    The same sources give the same bytes: sorted entries, fixed times and modes.
    Upload it in Moodle under Site administration > Plugins > Install plugins.

    Args:
        dest_dir: folder to write into (created if missing).
        plugin_dir: the plugin's source folder (the one holding version.php).

    Returns:
        The path of the zip.

    Raises:
        FileNotFoundError: plugin_dir has no version.php.
    """
    if not (plugin_dir / "version.php").is_file():
        raise FileNotFoundError(f"not a Moodle plugin folder: {plugin_dir}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"local_profroute-{plugin_version(plugin_dir)}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(_entry(f"{ZIP_FOLDER}/", is_dir=True), b"")
        for path in _members(plugin_dir):
            name = f"{ZIP_FOLDER}/{path.relative_to(plugin_dir).as_posix()}"
            if path.is_dir():
                archive.writestr(_entry(name + "/", is_dir=True), b"")
            else:
                archive.writestr(_entry(name, is_dir=False), path.read_bytes(), compresslevel=9)
    return target
