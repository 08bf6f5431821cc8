"""The home page: what this tenant has, at a glance."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static

from vmgate.tenancy import scoped


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico on their own; answer with the static icon."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


def home(request):
    tenant = request.tenant
    if tenant is None and request.user.is_staff:
        return redirect("admin:index")
    counts = []
    if tenant is not None:
        from customers.models import Customer, RatePlan, Trunk
        from dialpeers.models import Dialpeer
        from routing.models import Network, RoutingRule, VMGateClient

        for label, model in [
            ("Customers", Customer),
            ("Trunks", Trunk),
            ("Rate plans", RatePlan),
            ("Networks", Network),
            ("VMGateClients", VMGateClient),
            ("Routing rules", RoutingRule),
            ("Dialpeers", Dialpeer),
        ]:
            counts.append((label, scoped(model, tenant).count()))
    return render(request, "vmgate/home.html", {"counts": counts})
