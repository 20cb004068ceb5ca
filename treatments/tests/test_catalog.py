"""The medication catalog seeded by migration 0003."""

import pytest

from treatments.models import Medication, Modality

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "charge", "modality"),
    [
        ("Dexamethasone sodium phosphate", "negative", Modality.IONTOPHORESIS),
        ("Lidocaine HCl", "positive", Modality.IONTOPHORESIS),
        ("Acetic acid", "negative", Modality.IONTOPHORESIS),
        ("Sodium chloride", "negative", Modality.IONTOPHORESIS),
        ("Dexamethasone gel", "none", Modality.PHONOPHORESIS),
        ("Hydrocortisone cream", "none", Modality.PHONOPHORESIS),
        ("Ketoprofen gel", "none", Modality.PHONOPHORESIS),
        ("Tap water", "none", Modality.TAP_WATER),
    ],
)
def test_the_starting_catalog(name, charge, modality):
    medication = Medication.objects.get(name=name)
    assert medication.polarity == charge
    assert medication.modalities == [modality]
    assert medication.is_active
    assert medication.is_drug is (name != "Tap water")


def test_dexamethasone_is_4_mg_per_ml():
    assert str(Medication.objects.get(name="Dexamethasone sodium phosphate")) == (
        "Dexamethasone sodium phosphate 4 mg/mL"
    )
