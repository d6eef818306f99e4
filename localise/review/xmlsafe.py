"""The one place review files (XLIFF, TMX) are parsed: defusedxml with every entity declaration and
external reference refused, so external entities (XXE) and entity expansion (billion laughs) never
reach the parser. A bare ``<!DOCTYPE tmx SYSTEM "tmx14.dtd">`` (what TMX writers put on top) is
allowed: it declares nothing and the DTD is never fetched."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from localise.errors import ReviewError


def parse_xml(data: bytes | str, name: str = "<xml>") -> Element:
    """Parse ``data`` safely; any entity declaration, external reference or malformed XML is a :class:`ReviewError`
    naming ``name`` (and the line where the parser knows it)."""
    import defusedxml
    from defusedxml import ElementTree as SafeET

    try:
        return SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise ReviewError(f"{name}: refused: the file declares a DTD (external entities and entity "
                          "expansion are not allowed in review files)") from None
    except defusedxml.EntitiesForbidden as exc:
        where = f" -> {exc.sysid}" if exc.sysid else ""
        raise ReviewError(f"{name}: refused: the file declares entity {exc.name!r}{where} (external entities "
                          "and entity expansion are not allowed in review files)") from None
    except defusedxml.ExternalReferenceForbidden as exc:
        raise ReviewError(f"{name}: refused: external reference {exc.sysid!r}") from None
    except SafeET.ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise ReviewError(f"{name}:{line}: not well-formed XML: {exc}" if line else f"{name}: not well-formed XML: {exc}") from None
