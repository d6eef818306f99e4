"""JSON API for localisation jobs (bearer token). A job is a flow run of the Prefect deployment named
in the settings (``localise-batch/nightly`` by default, see flows/deployments.py), created through the Prefect client
(``PREFECT_API_URL``); its state is Prefect's, and its published tracks and quality summary come
from the flow's result (the batch summary the flow returns)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from localise.review.app.deps import ApiReviewer, Service

router = APIRouter(prefix="/api/jobs")


class JobRequest(BaseModel):
    source: str = Field(description="Source location: a folder or s3://bucket/prefix")
    targets: list[str] = Field(min_length=1, description="Target language codes")
    series: str | None = Field(None, description="Series name (default: the source's last segment)")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Further flow parameters")


async def _deployment(client: Any, name: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return await client.read_deployment_by_name(name)
    except ObjectNotFound:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"Prefect deployment {name!r} not found") from None


def _summary(result: Any) -> dict[str, Any]:
    """Published tracks and quality summary from the flow's return value (a dict, or a pydantic
    model/dataclass with ``to_dict``)."""
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    elif hasattr(result, "model_dump"):
        result = result.model_dump()
    if not isinstance(result, dict):
        return {"published": [], "quality": {}, "result": None if result is None else str(result)}
    published, quality = [], {}
    for episode in result.get("episodes", []) or []:
        languages = episode.get("languages", {}) if isinstance(episode, dict) else {}
        for lang, info in languages.items():
            published.append({"series": episode.get("series"), "episode": episode.get("episode"), "language": lang,
                              "status": info.get("status"), "track": info.get("track"),
                              "manifest": episode.get("manifest")})
            quality[f"{episode.get('episode')}/{lang}"] = {
                k: info.get(k) for k in ("cues", "flagged", "flagged_share", "flag_counts") if k in info}
    return {"published": published, "quality": quality, "result": result}


def _job(flow_run: Any) -> dict[str, Any]:
    state = flow_run.state
    return {
        "id": str(flow_run.id),
        "name": flow_run.name,
        "state": state.type.value if state else None,
        "state_name": state.name if state else None,
        "parameters": flow_run.parameters,
        "created": flow_run.created.isoformat() if flow_run.created else None,
    }


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_job(body: JobRequest, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    """Create a flow run of the deployment with ``source`` and ``targets`` (plus ``parameters``)."""
    from prefect.client.orchestration import get_client

    parameters = {**body.parameters, "source": body.source, "targets": body.targets}
    if body.series:
        parameters["series"] = body.series
    async with get_client() as client:
        deployment = await _deployment(client, service.settings.deployment)
        flow_run = await client.create_flow_run_from_deployment(
            deployment.id, parameters=parameters, tags=["localise-api", f"by:{reviewer}"])
    return _job(flow_run)


@router.get("/{job_id}")
async def job_status(job_id: UUID, service: Service, reviewer: ApiReviewer) -> dict[str, Any]:
    """The run's state; once completed, its published tracks and quality summary."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        deployment = await _deployment(client, service.settings.deployment)
        try:
            flow_run = await client.read_flow_run(job_id)
        except ObjectNotFound:
            flow_run = None
        if flow_run is None or flow_run.deployment_id != deployment.id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    out = _job(flow_run)
    out.update({"published": [], "quality": {}})
    if flow_run.state is not None and flow_run.state.is_final():
        try:
            result = await flow_run.state.aresult(raise_on_failure=False)
        except Exception as exc:  # noqa: BLE001 - result not persisted or storage unreachable
            out["result_error"] = str(exc)
        else:
            if isinstance(result, BaseException):
                out["error"] = str(result)
            else:
                out.update(_summary(result))
    return out
