module cronplane.local/launcher

go 1.22
