"""What every page of the portal shares and no app owns: paging, CSV downloads, form choices and date inputs, links
filled in per row, the <option> lists and the filter fields. It imports nothing of the portal's apps."""
