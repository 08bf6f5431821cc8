"""Root URLconf. Each app owns its namespace; the API lives under /api/v1/ (namespace ``api``)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from vmgate import auth_views as vmgate_auth_views
from vmgate import views_home

urlpatterns = [
    path("", views_home.home, name="home"),
    path("favicon.ico", views_home.favicon, name="favicon"),
    path("accounts/login/", vmgate_auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("vmgate.app_urls")),
    path("customers/", include("customers.urls")),
    path("routing/", include("routing.urls")),
    path("dialpeers/", include("dialpeers.urls")),
    path("api/v1/", include("vmgate.api_urls")),
]

# Errors: JSON under /api/, a database outage as 503 (vmgate.errors).
handler400 = "vmgate.errors.bad_request"
handler403 = "vmgate.errors.permission_denied"
handler404 = "vmgate.errors.page_not_found"
handler500 = "vmgate.errors.server_error"
