"""IVOA UWS 1.1 (Universal Worker Service) over the job registry, served at /uws/jobs.

``phases`` maps our statuses to UWS phases, ``render`` writes the UWS documents,
``waiting`` implements blocking ``?WAIT=n``, ``views`` parses requests and calls
the same services and permission gate as every other interface.
"""
