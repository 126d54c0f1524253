module cronplane.local/launchreference

go 1.22
