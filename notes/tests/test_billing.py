import pytest

from notes.billing import cpt_code_for, units_for_minutes


@pytest.mark.parametrize(
    ("minutes", "units"),
    [(0, 0), (7, 0), (8, 1), (22, 1), (23, 2), (37, 2), (38, 3), (52, 3), (53, 4), (67, 4), (68, 5)],
)
def test_eight_minute_rule(minutes, units):
    assert units_for_minutes(minutes) == units


def test_cpt_codes_by_modality():
    assert cpt_code_for("iontophoresis") == "97033"
    assert cpt_code_for("tap_water") == "97033"
    assert cpt_code_for("phonophoresis") == "97035"
