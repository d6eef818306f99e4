"""JSON API for localisation jobs (bearer token). A job is a flow run of one of the Prefect
deployments named in the settings (flows/deployments.py), created through the Prefect client
(``PREFECT_API_URL``); its state is Prefect's, and its published tracks and quality summary come
from the flow's result.

A request names *what* to run — ``kind``, ``series``, optionally ``episodes`` and ``targets`` —
never *where*: the source is the series' allow-listed source in the server's settings
(``series_sources`` / ``source_root``), the destination is the server's ``storage_url``, and
``config``, ``model``, storage URLs or free-form flow parameters are refused. The body is a closed
model, so an unknown field is a 422 before any run exists.

Who may start what: ``apply-review`` needs the reviewer role on the series; ``batch`` and
``episode`` runs need the operator role on it."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from localise.review.access import check_language, check_name
from localise.review.app.deps import ApiPrincipal, Service, audit, require

router = APIRouter(prefix="/api/jobs")

# fields the old API took, or a caller might try: locations and settings never come from a request
NEVER_FROM_REQUEST = ("source", "destination", "config", "model", "storage_url", "review_db_url", "parameters",
                      "engine", "model_table", "glossary",
                      # the flows' later parameters and settings: where work runs, where cached work and the
                      # source text go (an LLM endpoint of the caller's choosing would receive every line)
                      "refine", "fan_out", "chunk_deployment", "chunk_retries", "chunk_stale_after", "cache_url",
                      "cache_slice_units", "llm_base_url", "llm_model", "llm_api_key",
                      # where a series' terms are read from, and whether it may run without them
                      "glossary_dir", "glossary_optional")
MAX_EPISODES = 500
ROLE_FOR_KIND = {"apply-review": "reviewer", "batch": "operator", "episode": "operator"}


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["batch", "episode", "apply-review"] = Field(
        "batch", description="batch: every new or changed episode of the series; episode: the named episodes; "
                             "apply-review: republish the named (default: every reviewed) episodes")
    series: str = Field(description="Series name, as configured on the server")
    episodes: list[str] | None = Field(None, max_length=MAX_EPISODES, description="Episode names")
    targets: list[str] | None = Field(None, max_length=50, validation_alias=AliasChoices("targets", "languages"),
                                      description="Target languages (default: the deployment's)")

    @model_validator(mode="before")
    @classmethod
    def _no_locations(cls, data: Any) -> Any:
        if isinstance(data, dict):
            named = [k for k in NEVER_FROM_REQUEST if k in data]
            if named:
                raise ValueError(f"{', '.join(named)}: never taken from a request — sources, destinations, "
                                 "configuration and models come from the server's settings; name the series")
        return data

    @field_validator("series")
    @classmethod
    def _series(cls, value: str) -> str:
        return check_name(value, "series")

    @field_validator("episodes")
    @classmethod
    def _episodes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("episodes, when given, names at least one episode")
        return list(dict.fromkeys(check_name(v, "episode") for v in value))

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("targets, when given, names at least one language")
        return list(dict.fromkeys(check_language(v) for v in value))


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


def _episode_sources(source_url: str, episodes: list[str]) -> dict[str, str]:
    """Episode name -> source file location under the series' configured source."""
    from localise.storage import list_sources, open_store, shared_episode_error, shared_episodes

    store = open_store(source_url)
    sources = list_sources(store)
    clashes = shared_episodes(sources)
    named = [e for e in episodes if e in clashes]
    if named:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "; ".join(shared_episode_error(e, [PurePosixPath(k).name for k in clashes[e]])
                                      for e in named))
    found = {s.episode: store.location(s.key) for s in sources}
    missing = [e for e in episodes if e not in found]
    if missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no source for episodes {', '.join(missing)} in the series' "
                                                       "configured source")
    return {e: found[e] for e in episodes}


def _has_password(url: str) -> bool:
    """A database URL with a password never goes into run parameters: the worker then uses its
    own ``LOCALISE_REVIEW_DB_URL``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password is not None
    except ArgumentError:
        return True


def _runs(service: Any, body: JobRequest) -> tuple[str, list[dict[str, Any]]]:
    """The deployment and one parameter set per flow run, all from the server's settings."""
    settings = service.settings
    targets = {"targets": body.targets} if body.targets else {}
    if body.kind == "apply-review":
        episodes = body.episodes or sorted({i.episode for i in service.store.items(series=body.series, state=None)
                                            if i.state in ("approved", "edited")})
        if not episodes:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{body.series}: no reviewed lines to apply")
        parameters = {"series": body.series, "episodes": episodes, "storage_url": settings.storage_url}
        if not _has_password(settings.db_url):  # run parameters are visible to callers and in Prefect's UI
            parameters["review_db_url"] = settings.db_url
        return settings.review_deployment, [parameters]
    source = settings.source_for(body.series)
    if source is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"series {body.series!r} has no source configured on this "
                                                      "server (series_sources / source_root)")
    if body.kind == "batch":
        if body.episodes:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "a batch run takes every pending episode; use kind 'episode' to name episodes")
        return settings.deployment, [{"source": source, "series": body.series, "destination": settings.storage_url,
                                      **targets}]
    if not body.episodes:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "an episode run names its episodes")
    files = _episode_sources(source, body.episodes)
    return settings.episode_deployment, [{"source": files[e], "series": body.series,
                                          "destination": settings.storage_url, **targets} for e in body.episodes]


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_job(request: Request, body: JobRequest, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    """Create the flow run(s) of a job; the answer is the first run, with every run in ``jobs``."""
    from anyio import to_thread
    from prefect.client.orchestration import get_client

    require(principal, ROLE_FOR_KIND[body.kind], body.series)
    audit(request, kind=body.kind, series=body.series, episodes=body.episodes, targets=body.targets)
    deployment_name, runs = await to_thread.run_sync(_runs, service, body)
    jobs = []
    async with get_client() as client:
        deployment = await _deployment(client, deployment_name)
        for parameters in runs:
            flow_run = await client.create_flow_run_from_deployment(
                deployment.id, parameters=parameters,
                tags=["localise-api", f"by:{principal.name}", f"series:{body.series}", f"kind:{body.kind}"])
            jobs.append(_job(flow_run))
    audit(request, jobs=[j["id"] for j in jobs])
    return {**jobs[0], "kind": body.kind, "jobs": jobs}


@router.get("/{job_id}")
async def job_status(job_id: UUID, service: Service, principal: ApiPrincipal) -> dict[str, Any]:
    """The run's state; once completed, its published tracks and quality summary. Only runs of
    the job deployments, on a series the caller may see."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    settings = service.settings
    async with get_client() as client:
        try:
            flow_run = await client.read_flow_run(job_id)
        except ObjectNotFound:
            flow_run = None
        known = set()
        for name in (settings.deployment, settings.episode_deployment, settings.review_deployment):
            try:
                known.add((await client.read_deployment_by_name(name)).id)
            except ObjectNotFound:
                continue
        series = (flow_run.parameters or {}).get("series") if flow_run is not None else None
        if (flow_run is None or flow_run.deployment_id not in known or not isinstance(series, str)
                or not principal.may_see(series)):
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
