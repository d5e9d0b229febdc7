"""Copy studio: brand-voiced copy over any OpenAI-compatible model, scoring, A/B tests.

Public surface (each module holds one concept):
    content_types     the kinds of copy: channel limits, model prompt, offline templates
    grounding         product facts from a dataset; audiences from customer groups or segments
    voices            saved brand voices: tone sliders, audience, word lists, reading level
    prompts           chat messages with user data delimited
    sandbox           sandboxed Jinja2 with the length and time limits the sandbox lacks
    template_writer   deterministic offline copy from templates and facts
    providers         the provider registry, generation requests, streams and drafts
    openai_provider   the `openai` provider on the official SDK
    pricing           estimated cost from the price table
    redaction         keys out of errors and logs
    readability       Flesch reading ease and Flesch-Kincaid grade
    sentiment         VADER sentiment with the words that carried it
    scoring           every check of a text, each with its reason
    experiments       z-tests, probability best, sample size, the winner call
    experiment_store  saved experiments between library items
    library           the content library: history, tags, search, exports
    studio            the service the page and CLI use: providers, generation, usage
    cli               `python -m core copy generate|score`
"""
