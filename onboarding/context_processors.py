from .services import first_steps_open


def first_steps(request):
    """The banner to the first steps, for a new organization's managers until they are done
    (no query once the organization is past them)."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.is_manager:
        return {}
    steps = first_steps_open(organization=request.organization)
    if not steps:
        return {}
    return {"first_steps": {"done": sum(s.done for s in steps), "total": len(steps)}}
