"""The admins' common ground: what a staff user may see (OwnerScopedAdmin) and read-only evidence (ReadOnlyAdmin).

Any active staff user is a site owner: they see and edit only the sites they own or belong to,
and those sites' campaigns and variants. Scoping lives in get_queryset (change lists, change
pages, actions and autocomplete all read it) and in the foreign-key choices; an object outside
the scope answers 404, never a redirect to a page that names it.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404

from campaigns.models import Site


class OwnerScopedAdmin(admin.ModelAdmin):
    """Staff see only their own sites' objects; `site_path` leads from the model to its Site."""

    site_path = "site"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or self._in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        sites = Site.objects.for_user(request.user).values("id")
        return queryset.filter(**{f"{self.site_path}__in" if self.site_path else "id__in": sites})

    def _in_scope(self, request, obj) -> bool:
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Site:
            kwargs["queryset"] = Site.objects.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _object_or_404(self, request, object_id):
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._object_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._object_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)


class ReadOnlyAdmin(OwnerScopedAdmin):
    """Evidence: rows the tally or the collect endpoint wrote, shown to their site's people and never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
