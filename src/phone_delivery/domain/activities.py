"""Building audit activities (``RESOURCE.VERB``), by a client application or by the system."""

from __future__ import annotations

from phone_delivery.domain.ids import time_ordered_id
from phone_delivery.domain.models import Activity, Principal


def new_activity(
    environment_id: str,
    resource_type: str,
    verb: str,
    resource_id: str,
    description: str,
    actor: Principal | None,
    at: int,
    resource_name: str | None = None,
) -> Activity:
    """``actor`` None means phone-delivery itself (the worker, a provider callback)."""
    return Activity(
        id=time_ordered_id(at),
        environment_id=environment_id,
        action_type=f"{resource_type}.{verb}",
        actor_type="CLIENT" if actor else "SYSTEM",
        actor_id=actor.client_id if actor else None,
        actor_name=actor.name if actor else "phone-delivery",
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=resource_name,
        description=description,
        recorded_at=at,
    )
