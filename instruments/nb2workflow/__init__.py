"""Instruments served by nb2workflow (PyPI ``nb2workflow``): a parameterized Jupyter
notebook behind HTTP, the backend most real instruments run on.

Settings of an ``Instrument`` row (or ``DISPATCHER_NB2W_BACKENDS="name=url,..."``):

- ``url`` (required): the backend's base URL, e.g. ``http://host:8000``;
- ``async`` (default true): run through nb2workflow's asynchronous mode with our
  signed call-back URL; false runs synchronously inside the task;
- ``timeout_s`` (default ``DISPATCHER_BACKEND_TIMEOUT_S``): limit of each HTTP call
  (options, submission, poll); the jobs sweep also reads it as the silence limit;
- ``sync_timeout_s`` (default the larger of ``timeout_s`` and 80% of the task
  timeout): limit of a synchronous run;
- ``options_ttl_s`` (default 60): how long the backend's options are kept;
- ``pass_token`` (default true): the owner's token goes to the notebook as ``_token``
  (nb2workflow fetches the user's uploaded files with it); never for public requests;
- ``ontology_path`` (default ``DISPATCHER_ONTOLOGY_PATH``): the ODA ontology that types
  parameters and outputs through its class hierarchy (``instruments.ontology``);
- ``poll_interval_s`` (default 10), ``poll_max_interval_s`` (default 120): the
  polling fallback's first delay, doubled after each poll up to the maximum (and
  kept below ``timeout_s / 2``).

Discovery (:mod:`.discovery`): ``GET {url}/api/v1.0/options`` lists the notebooks;
each becomes a product whose parameters are typed by their ``owl_type`` (ODA
ontology terms, through the ontology's class hierarchy and the parameter's
``extra_ttl``: bounds, allowed values, units, label, group, description; unknown
ones by ``python_type``). File references (``POSIXPath``, ``FileURL``) take uploads. Source, coordinates and time
range (``oda:AstrophysicalObject``, ``PointOfInterestRA/DEC``, ``StartTime``,
``EndTime`` and their ISOT/MJD variants) take the common names ``src_name, RA,
DEC, T1, T2`` (with ``T_format``) and are offered as the instrument's common
parameters; a notebook parameter whose own name clashes with a common or protocol
name is offered as ``<name>_rename``. Requests are translated back to the
notebook's names, times to its format (ISO-T or MJD), energies to its units.

Running: ``GET {url}/api/v1.0/get/<product>?<arguments>&_async_request=yes&
_async_request_callback=<our call-back>``. nb2workflow answers 201 ``submitted`` /
``started`` (-> ``RunOutcome`` submitted/progress, with ``poll_after_s`` so that
polling takes over when call-backs do not come), and 200 ``done`` with the data.
It calls our URL with ``action=progress`` and then ``action=done`` (also after a
failure). ``poll()`` and ``complete()`` repeat the same GET: nb2workflow finds
the job again by its arguments.

Failures (:mod:`.answers`) are AdapterErrors with the backend's words: notebook
exceptions (sync 500 with ``exceptions`` as repr strings, async ``done`` with
``output: "incomplete"`` and ``{ename, evalue}``) and 4xx (400 with ``issues``)
are final; 5xx, timeouts and connection errors are retryable; non-JSON answers
and an empty output are final.

Outputs (:mod:`.outputs`) become products by their annotation in the options'
``output`` section, then by the shape of their value: numpy data (incl. light
curves, spectra, images), astropy tables (ASCII or binary), binary, pictures, files
the notebook wrote, workflow parameters (text with ``meta_data.uri``), text; the
workflow comment becomes ``Products.comment``; ``extra_metadata`` and ``prod_uris``
name each product's label and term.
"""

from instruments.nb2workflow.adapter import Nb2workflowAdapter

__all__ = ["Nb2workflowAdapter"]
