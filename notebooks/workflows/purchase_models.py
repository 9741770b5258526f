"""The record the purchase-request workflow works on, a purchase requisition (imported by the workflow as
`purchase_models:Requisition`: a module beside the workflow file)."""

from aqtra_nb.entities import Entity


class Requisition(Entity):
    item: str
    amount: float
    requester: str  # an email address: the workflow tells the requester the outcome
    department: str = "general"
    status: str = "draft"
    priority: str | None = None
    decided_by: str | None = None
