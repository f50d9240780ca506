from datetime import UTC, datetime

import pytest

from dashboard.data_loaders.parsing import to_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Alpaca's /v2/clock: microseconds and a New York offset.
        ("2026-11-24T10:19:29.944399-05:00", datetime(2026, 11, 24, 15, 19, 29, 944399, UTC)),
        # Market data: nanoseconds and Z.
        ("2026-11-24T15:19:29.123456789Z", datetime(2026, 11, 24, 15, 19, 29, 123456, UTC)),
        ("2026-11-24T10:19:29-05:00", datetime(2026, 11, 24, 15, 19, 29, tzinfo=UTC)),
        ("2026-06-01T09:30:00.5-04:00", datetime(2026, 6, 1, 13, 30, 0, 500000, UTC)),
    ],
)
def test_offsets_survive_fractional_seconds(text: str, expected: datetime) -> None:
    assert to_datetime(text) == expected
