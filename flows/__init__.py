"""Prefect flows over the localise library: thin compositions of library functions.

* ``localise-episode`` (:func:`flows.localise_episode.localise_episode`) — one source track;
* ``localise-batch`` (:func:`flows.localise_batch.localise_batch`) — a folder or ``s3://`` prefix;
* ``apply-review`` (:mod:`flows.apply_review`) — reviewers' corrections, republished.

Deployments: :mod:`flows.deployments` (``localise serve``) and ``infra/prefect.yaml`` (work pools).
"""
