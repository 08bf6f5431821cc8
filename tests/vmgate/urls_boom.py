"""The portal's URLs plus one page that fails, to see the 500 page a real error gets."""

from django.urls import path

from vmgate.urls import urlpatterns as portal


def boom(request):
    raise RuntimeError("a deliberate failure for the 500 page test")


urlpatterns = [path("boom/", boom), *portal]
