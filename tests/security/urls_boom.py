"""The portal's URLs (and its error handlers) plus an API view that fails unexpectedly."""

from django.urls import path
from rest_framework.decorators import api_view, authentication_classes, permission_classes

from vmgate.urls import handler400, handler403, handler404, handler500  # noqa: F401
from vmgate.urls import urlpatterns as portal


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def boom(request):
    raise RuntimeError("a deliberate failure for the JSON 500 test")


urlpatterns = [path("api/v1/boom/", boom), *portal]
