"""Who may do what with supplies. Therapists handle the shelf: they see
stock, receive deliveries and record corrections. What things cost (unit
costs, fees, session economics) and the catalog are for clinic admins; the
front desk has no part in it."""

from clinic.access import ADMIN, CLINICAL, AdminPermission, ClinicalPermission, FieldPolicy

STOCK = CLINICAL
CATALOG = ADMIN
ECONOMICS = ADMIN
StockPermission = ClinicalPermission
CatalogPermission = AdminPermission
EconomicsPermission = AdminPermission

# What a thing costs is economics: therapists see the shelf's quantities only.
COST_FIELDS = frozenset({"unit_cost"})
# What the API gives of each (supplies/api.py); the costs among them are for
# clinic admins only.
SUPPLY_ITEM_API = (
    "id",
    "kind",
    "name",
    "medication",
    "vial_size_ml",
    "electrode_type",
    "size",
    "unit",
    "unit_cost",
    "reorder_level",
    "is_active",
    "in_stock",
)
LOT_API = (
    "id",
    "item",
    "lot_number",
    "expiry",
    "quantity",
    "quantity_received",
    "on_hand",
    "unit_cost",
    "received_at",
    "received_by",
)
SUPPLY_ITEM_FIELDS = FieldPolicy("supply_item", shared=set(SUPPLY_ITEM_API) - COST_FIELDS, full=ECONOMICS)
LOT_FIELDS = FieldPolicy("lot", shared=set(LOT_API) - COST_FIELDS, full=ECONOMICS)

__all__ = [
    "CATALOG",
    "COST_FIELDS",
    "ECONOMICS",
    "LOT_API",
    "LOT_FIELDS",
    "SUPPLY_ITEM_API",
    "SUPPLY_ITEM_FIELDS",
    "STOCK",
    "CatalogPermission",
    "EconomicsPermission",
    "StockPermission",
]
