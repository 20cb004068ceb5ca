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
SUPPLY_ITEM_FIELDS = FieldPolicy(
    "supply_item",
    shared={
        "id",
        "kind",
        "name",
        "medication",
        "vial_size_ml",
        "electrode_type",
        "size",
        "unit",
        "reorder_level",
        "is_active",
        "in_stock",
    },
    full=ECONOMICS,
)
LOT_FIELDS = FieldPolicy(
    "lot",
    shared={
        "id",
        "item",
        "lot_number",
        "expiry",
        "quantity",
        "quantity_received",
        "on_hand",
        "received_at",
        "received_by",
    },
    full=ECONOMICS,
)

__all__ = [
    "CATALOG",
    "COST_FIELDS",
    "ECONOMICS",
    "LOT_FIELDS",
    "SUPPLY_ITEM_FIELDS",
    "STOCK",
    "CatalogPermission",
    "EconomicsPermission",
    "StockPermission",
]
