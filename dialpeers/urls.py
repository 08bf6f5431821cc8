from django.urls import path

from dialpeers import views

app_name = "dialpeers"
urlpatterns = [
    path("", views.DialpeerListView.as_view(), name="dialpeer_list"),
    path("add/", views.DialpeerCreateView.as_view(), name="dialpeer_add"),
    path("bulk/", views.DialpeerBulkView.as_view(), name="dialpeer_bulk"),
    path("<int:pk>/", views.DialpeerDetailView.as_view(), name="dialpeer_detail"),
    path("<int:pk>/edit/", views.DialpeerUpdateView.as_view(), name="dialpeer_edit"),
    path("<int:pk>/delete/", views.DialpeerDeleteView.as_view(), name="dialpeer_delete"),
]
