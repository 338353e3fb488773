from django.urls import re_path

from installations import views

# Mounted under /<variant>/ (see config.urls); paths match addons.manifest.lifecycle_path.
urlpatterns = [
    re_path(
        r"^lifecycle/(?P<lifecycle_slug>installed|deleted|settings-updated|status-changed)$",
        views.lifecycle,
        name="lifecycle",
    ),
]
