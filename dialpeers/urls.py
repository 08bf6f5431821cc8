app_name = "dialpeers"
urlpatterns = []
