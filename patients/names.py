"""Names as search and duplicate detection compare them: no case, no
accents, single spaces ("  José  MARÍA " → "jose maria")."""

import unicodedata


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def name_key(first_name: str, last_name: str) -> str:
    """What `Patient.name_key` holds: the folded "first last"."""
    return f"{fold(first_name)} {fold(last_name)}".strip()
