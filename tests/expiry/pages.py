"""What the expiry pages' tests share: their moment, and what they read from a page."""

from datetime import UTC, datetime

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)


def aliases(response) -> list[str]:
    return [row["alias"] for row in response.context["rows"]]


def tile_counts(response) -> dict[str, int]:
    return {key: n for key, _, n in response.context["counts"].tiles()}
