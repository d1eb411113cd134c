from . import selectors


def organizations(request):
    """The header's organization switch: the person's other organizations, read only when a
    page shows the switch (a lazy list), and shown only to people with more than one."""
    if getattr(request, "membership", None) is None:
        return {}

    class _Lazy:
        _items = None

        def __iter__(self):
            if self._items is None:
                self._items = selectors.memberships_of(user=request.user)
            return iter(self._items)

        def __len__(self):
            return len(list(iter(self)))

    return {
        "my_memberships": _Lazy(),
        # Leads are refused until the owner who signed up confirms their address: say so.
        "awaiting_confirmation": not selectors.organization_receives_leads(request.organization),
    }
