"""The book's ``common`` package, served by xpnet (see ``xpnet.book.importer``)."""
