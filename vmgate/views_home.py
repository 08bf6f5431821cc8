"""The home page: what this tenant has, at a glance."""

from django.shortcuts import render

from vmgate.tenancy import scoped


def home(request):
    tenant = request.tenant
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
