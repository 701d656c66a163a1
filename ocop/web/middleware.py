"""Responses to a logged-in user are never stored by the browser or a proxy.

Office PCs are shared: after logout, Back must not show the last dossier from the browser's
cache, and a file downloaded by one user must not be served to the next from a proxy. Every
response to an authenticated user (pages, API answers, file downloads) gets
``Cache-Control: no-store`` — unless the view set its own Cache-Control (a view that knows its
answer may be kept says so itself). Anonymous responses are left alone.
"""

from django.utils.cache import add_never_cache_headers


class NoStoreForAuthenticatedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        # read after the view: DRF sets request.user for token authentication there
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
