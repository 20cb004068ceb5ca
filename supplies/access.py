"""Who may do what with supplies. Therapists handle the shelf: they see
stock, receive deliveries and record corrections. What things cost (unit
costs, fees, session economics) and the catalog are for clinic admins; the
front desk has no part in it."""

from clinic.access import ADMIN, CLINICAL, AdminPermission, ClinicalPermission

STOCK = CLINICAL
CATALOG = ADMIN
ECONOMICS = ADMIN
StockPermission = ClinicalPermission
CatalogPermission = AdminPermission
EconomicsPermission = AdminPermission

__all__ = [
    "CATALOG",
    "ECONOMICS",
    "STOCK",
    "CatalogPermission",
    "EconomicsPermission",
    "StockPermission",
]
