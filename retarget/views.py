from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness for load balancers and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """API paths answer 404 in JSON, like every API view; other paths get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "not found", "detail": request.path}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "server error"}, status=500)
    from django.views.defaults import server_error as default

    return default(request)
