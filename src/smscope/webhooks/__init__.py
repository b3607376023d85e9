"""Outbound status webhooks: each status change of a message, POSTed as signed JSON to
the URLs of the account or of its campaign, retried until accepted.

* :mod:`.endpoints`: the service (add, list, remove an endpoint; the delivery log);
* :mod:`.payload`: what one event says (pure);
* :mod:`.pump`: ``status_events`` → deliveries, after a cursor per endpoint;
* :mod:`.delivery`: claiming due deliveries, POSTing them, recording what happened;
* :mod:`.runner`: the task of ``smscope worker`` that runs the pump and the senders.
"""
