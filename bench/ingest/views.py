"""The baseline: a bare Django view doing one INSERT of the body per request, nothing else."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE_SQL = "CREATE TABLE IF NOT EXISTS bench_ingest_baseline (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL, body text NOT NULL)"


@csrf_exempt
def baseline(request):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ingest_baseline (received_at, body) VALUES (now(), %s)",
                       [request.body.decode()])
    return JsonResponse({"status": "accepted"})
