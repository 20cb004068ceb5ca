"""Who may do what with the home program. Its pages are clinical (the
therapist's: program settings, home logs, HDSS, intake answers); starting,
changing, reviewing and the link are clinical acts (R20, checked in the
services). The front desk sees only "home program active / needs review"
(on the chart and plan page); patients reach their pages by signed link."""

from clinic.access import CLINICAL, is_therapist

PROGRAM = CLINICAL

__all__ = ["PROGRAM", "is_therapist"]
