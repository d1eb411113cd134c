from .limits import lead_limit_state


def lead_limit(request):
    """The monthly lead limit's banner for managers (one count, only where there is a limit)."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.is_manager:
        return {}
    state = lead_limit_state(organization=request.organization)
    return {"lead_limit": state} if state and state["reached"] else {}
