-- ops.file_ledger: the ledger of every file seen (view `ledger`, bronze__file_ledger), newest landing first.
select * from ledger
order by landed_at desc, source_file
