"""API explorer page: tag tree and search over the catalogue, an operation form, execute, response
viewer, save as flow action. Execution goes through the explorer JSON API (``api/v1/explorer``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from addons.iframe_auth import IframeUser
from addons.variants import Feature
from ui import backends
from ui import flow_selectors as fs
from ui.pages import iframe_page, page_context


@iframe_page
@require_GET
def explorer_page(request: HttpRequest, user: IframeUser) -> HttpResponse:
    spec = user.installation.variant_spec
    if not spec.allows(Feature.EXPLORER_READ):
        raise Http404("The explorer is not part of this plan")
    get_catalog = backends.function("explorer.catalog", "get_catalog")
    catalog = get_catalog(user.installation) if get_catalog is not None else None
    catalog_status = backends.function("explorer.selectors", "catalog_status")
    api = f"/{user.variant.slug}/api/v1/explorer"
    can_write = spec.allows(Feature.EXPLORER_WRITE) and user.is_admin
    can_save = spec.allows(Feature.FLOWS) and spec.allows(Feature.FLOW_CLOCKIFY_ACTIONS) and user.is_admin
    flows = fs.flows_with_last_run(installation=user.installation) if can_save else None
    context = page_context(request, user, active="explorer")
    context.update({
        "tree": catalog.tag_tree() if catalog is not None else None,
        "op_count": len(catalog) if catalog is not None else 0,
        "catalog_status": catalog_status(installation=user.installation) if catalog_status is not None else None,
        "explorer_config": {
            "api": api if backends.url_exists(api + "/operations") or backends.url_exists(api + "/tags") else None,
            "canWrite": can_write,
            "planWrites": spec.allows(Feature.EXPLORER_WRITE),
            "canSave": can_save,
            "flows": [{"id": f.public_id, "name": f.name} for f in flows or []],
            "events": list(spec.events),
        },
    })
    return render(request, "ui/explorer.html", context)
