from django.urls import path

from bootstrap import apis

# Mounted under /<variant>/ (config.urls variant_patterns).
urlpatterns = [
    path("api/v1/bootstrap", apis.BootstrapAPI.as_view(), name="bootstrap-status"),
]
