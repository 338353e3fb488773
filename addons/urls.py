from django.urls import path

from addons import views

urlpatterns = [
    path("manifest", views.manifest, name="manifest"),
    path("icon.svg", views.icon, name="icon"),
]
