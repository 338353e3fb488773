from django.urls import path

from bench.ingest import views
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/baseline", views.baseline), *project_urlpatterns]
