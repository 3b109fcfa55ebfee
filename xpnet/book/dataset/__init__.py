"""The book's ``dataset`` package, served by xpnet (see ``xpnet.book.importer``)."""
